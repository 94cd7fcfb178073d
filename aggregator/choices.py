"""The fixed choices of the commands' options (DESIGN.md §8), in a module that imports nothing.

`ropsfeed --help` and every command's start build the options' help from these; the modules that
use them (feeds: feedgen; export; mail.subscribers: email_validator) are too heavy to import for that.
"""

FEED_FORMATS = ("atom", "rss", "json")  # `ropsfeed feed --format`, aggregator.feeds.render
EXPORT_FORMATS = ("csv", "jsonl", "csv-excel")  # `ropsfeed export --format`, aggregator.export.write
EXPORT_LEVELS = ("stories", "announcements")  # `ropsfeed export --level`
FREQUENCIES = ("daily", "weekly")  # digests: `ropsfeed subscribers add --frequency`, `digest send`
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # of weekly digests
