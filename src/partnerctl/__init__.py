"""partnerctl: command-line administration for partner spaces."""

__version__ = "0.1.0"
