"""The terminal portal (`partnerctl portal`): the portal's client tabs, search, filters and menu in Textual.

Imported only when `portal` runs: it brings in Textual, which `partnerctl --help` must not pay for.
"""
