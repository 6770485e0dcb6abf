"""xxgk crawler: the Scrapy project (registry, platform adapters, spiders, pipelines), the archive,
the database and the ``xxgk`` command line."""
