"""Tenant logos: real image format, byte size and pixel dimensions checked before storing."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlmodel import Session

from partnerctl.errors import InvalidInput
from partnerctl.services.tenants.rules import get_tenant
from partnerctl.store.models import User
from partnerctl.store.models.tenants import Tenant

# A small logo shown top left in the tenant: bounded in bytes and in pixels (checked by decoding it).
LOGO_MAX_BYTES = 256 * 1024


LOGO_MAX_WIDTH = 600


LOGO_MAX_HEIGHT = 300


LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass
class LogoInfo:
    mime: str
    size: int
    width: int
    height: int


def check_logo(data: bytes) -> LogoInfo:
    """Decode the image to see what it really is; the file's name and extension count for nothing."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidInput("the logo file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput(
            f"the logo is {len(data) // 1024} KiB; at most {LOGO_MAX_BYTES // 1024} KiB is allowed"
        )
    allowed = ", ".join(LOGO_FORMATS)
    try:
        with Image.open(io.BytesIO(data), formats=list(LOGO_FORMATS)) as img:
            fmt = img.format
            width, height = img.size
            # Check the pixel size from the header before decoding anything (no decompression bombs).
            if width > LOGO_MAX_WIDTH or height > LOGO_MAX_HEIGHT:
                raise InvalidInput(
                    f"the logo is {width}x{height} pixels; at most {LOGO_MAX_WIDTH}x{LOGO_MAX_HEIGHT} is allowed"
                )
            img.verify()
        # verify() leaves the image unusable and checks little for JPEG: decode it fully as well.
        with Image.open(io.BytesIO(data), formats=list(LOGO_FORMATS)) as img:
            img.load()
    except InvalidInput:
        raise
    except UnidentifiedImageError:
        raise InvalidInput(f"the logo is not an image in an allowed format ({allowed})") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            f"the logo is not a valid image: {str(exc).splitlines()[0] if str(exc) else 'corrupt data'}"
        ) from None
    if fmt not in LOGO_FORMATS:
        raise InvalidInput(f"the logo is {fmt}; allowed are {allowed}")
    return LogoInfo(LOGO_FORMATS[fmt], len(data), width, height)


def set_logo(tenant: Tenant, data: bytes | None, info: LogoInfo | None = None) -> None:
    """Store the logo (checked here, unless info is what check_logo said of it), or with None remove it."""
    if data is None:
        tenant.logo = tenant.logo_mime = tenant.logo_size = tenant.logo_width = tenant.logo_height = None
        return
    info = info or check_logo(data)
    tenant.logo = data
    tenant.logo_mime, tenant.logo_size = info.mime, info.size
    tenant.logo_width, tenant.logo_height = info.width, info.height


def get_logo(session: Session, actor: User, name: str) -> tuple[bytes, str] | None:
    tenant = get_tenant(session, name, actor)
    return (tenant.logo, tenant.logo_mime) if tenant.logo else None
