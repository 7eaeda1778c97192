"""Tenant logos: checked by decoding them (format, bytes, pixels), stored and removed."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from partnerctl.errors import InvalidInput
from partnerctl.services.tenants.logo import LOGO_MAX_BYTES, check_logo, set_logo
from partnerctl.store.models.tenants import Tenant


def _png(size, mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_check_logo_limits(backend):
    info = check_logo(_png((600, 300)))
    assert (info.mime, info.width, info.height) == ("image/png", 600, 300)
    # A huge canvas that compresses to a few KiB is refused from its header, before decoding.
    bomb = _png((5000, 5000), mode="1")
    assert len(bomb) < LOGO_MAX_BYTES
    with pytest.raises(InvalidInput, match="5000x5000 pixels"):
        check_logo(bomb)
    with pytest.raises(InvalidInput, match="not an image"):
        check_logo(b"GIF89a but not really")
    with pytest.raises(InvalidInput, match="empty"):
        check_logo(b"")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_set_logo_stores_what_the_check_found_and_none_removes_it(backend):
    tenant = Tenant(name="T", name_key="t")
    data = _png((120, 40))
    set_logo(tenant, data)
    assert (tenant.logo, tenant.logo_mime, tenant.logo_size) == (data, "image/png", len(data))
    assert (tenant.logo_width, tenant.logo_height) == (120, 40)
    # With the check already made (as `tenant edit` does), its result is stored as it is.
    set_logo(tenant, data, check_logo(_png((60, 20))))
    assert (tenant.logo_width, tenant.logo_height) == (60, 20)
    with pytest.raises(InvalidInput, match="not an image"):
        set_logo(tenant, b"not an image")
    set_logo(tenant, None)
    assert tenant.logo is tenant.logo_mime is tenant.logo_size is tenant.logo_width is None
