"""Pressroom's operations, above the archive and the indexer: the `pressroom` command, the scheduler
and its job queue, backup and restore, and the status report that gathers every layer's facts.

archive/ (capture, cleaning, the catalogue and WARC store) and indexer/ never import this package;
webapp/ reads its status report and queues jobs for the scheduler.
"""
