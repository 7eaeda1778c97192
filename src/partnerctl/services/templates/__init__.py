"""Configuration templates: what a new client gets, exactly one default, files for git.

This module is the area's public surface: other areas and commands import from here only.
"""

from __future__ import annotations

from partnerctl.services.templates.files import (
    export_template,
    import_template,
    template_changes_from_doc,
    template_document,
)
from partnerctl.services.templates.manage import (
    create_template,
    edit_template,
    find_template,
    get_default,
    get_template,
    list_templates,
    remove_template,
    set_default,
)
from partnerctl.services.templates.settings import (
    SETTING_KEYS,
    Lookups,
    PreparedProduct,
    TemplateChanges,
    TemplateInfo,
    load_link_lookups,
    load_lookups,
    resolve_template_settings,
    settings_from,
    sorted_unique,
    template_info,
)

__all__ = [
    "Lookups",
    "PreparedProduct",
    "SETTING_KEYS",
    "TemplateChanges",
    "TemplateInfo",
    "create_template",
    "edit_template",
    "find_template",
    "get_default",
    "export_template",
    "get_template",
    "import_template",
    "list_templates",
    "load_link_lookups",
    "load_lookups",
    "remove_template",
    "resolve_template_settings",
    "set_default",
    "settings_from",
    "sorted_unique",
    "template_changes_from_doc",
    "template_document",
    "template_info",
]
