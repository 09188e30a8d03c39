"""Per-user (per-IP when anonymous) rate limit of `RATE_LIMIT_REQUESTS_PER_MINUTE`."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class RequestsPerMinuteThrottle(SimpleRateThrottle):
    """Counts in the default cache, which is Redis (shared by all workers) when
    `REDIS_URL` is set. A limit of 0 turns throttling off."""

    scope = "requests"

    def get_rate(self):
        limit = settings.RATE_LIMIT_REQUESTS_PER_MINUTE
        return f"{limit}/min" if limit > 0 else None

    def allow_request(self, request, view):
        # Read the setting per request, so it can change without a restart of the class.
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
