"""Domain errors of events and webhooks (mapped to HTTP in `inventory_site.api.exceptions`)."""

from inventory_site.exceptions import InvalidInput


class UnsafeWebhookURL(InvalidInput):
    """The URL is not https (or http where allowed) or resolves to a private address."""

    default_message = "The webhook URL is not allowed."

    def __init__(self, reason: str):
        super().__init__(f"The webhook URL is not allowed: {reason}", errors={"url": [reason]})
        self.reason = reason
