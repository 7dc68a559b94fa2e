"""The HTTP edge shared by every resource: dependencies, Apollo's error families, the request
parameter dialects and the response envelopes."""
