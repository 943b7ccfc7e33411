"""Campaigns: long, adversarial runs of the real processes that print their figures (see SECURITY.md).

`make campaigns` runs all three at their full size; `python -m campaigns.crash|lost_response|concurrency --help`
shows the options. A short version of each runs in `make test` (tests/campaigns).
"""
