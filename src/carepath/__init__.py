"""carepath: one customer, one case and one history across every customer-service channel."""

__version__ = "0.1.0"
