"""What the spider hands to the pipeline: a response that carries a report (or part of one)."""

from __future__ import annotations

import scrapy


class DocumentItem(scrapy.Item):
    """A fetched, archived response that is a report candidate, with what the listing said.

    ``role``: ``detail`` (the report is the HTML body), ``attachment`` (a linked file), ``image``
    (a scan of an image-only report) or ``direct`` (the listing linked the file itself).
    The listing fields are hints for the parse workers when a document does not say who wrote it
    or for which year; they are never preferred over what the document itself says.
    """

    url = scrapy.Field()
    final_url = scrapy.Field()
    source = scrapy.Field()  # registry source name
    role = scrapy.Field()
    capture_id = scrapy.Field()
    sha256 = scrapy.Field()
    media_type = scrapy.Field()
    listing_url = scrapy.Field()
    listing_title = scrapy.Field()
    listing_date = scrapy.Field()
    title_year = scrapy.Field()
    title_agency = scrapy.Field()
    document_id = scrapy.Field()
