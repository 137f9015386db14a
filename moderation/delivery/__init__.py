"""Signed callbacks to the CMS: the transactional outbox and its delivery worker."""
