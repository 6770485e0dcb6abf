"""Scrapy spiders of the xxgk crawler (one: ``reports``)."""
