"""One date format on every admin screen (Django's English default writes "Dec. 7, 2026, 6:58
p.m." beside the lists' "2026-12-07 18:58"): ISO dates, 24-hour times to the minute."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
