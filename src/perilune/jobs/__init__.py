"""Durable background jobs, with no broker: rows in our own ``jobs`` table, enqueued in the same
transaction as the change that causes them (a rolled-back change leaves no job; a committed one
always has its job), claimed atomically by workers (FOR UPDATE SKIP LOCKED on PostgreSQL,
BEGIN IMMEDIATE on SQLite) under a lease, so a crashed worker's jobs run again once the lease
lapses. Delivery is at least once: handlers must be idempotent.

``perilune serve`` runs a worker in each server process (PERILUNE_RUN_WORKER); ``perilune
worker`` runs more. Resources register handlers by kind on a ``JobHandlers`` registry."""
