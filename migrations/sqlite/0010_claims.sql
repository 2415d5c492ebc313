-- Work claimed by a handoff process: while `claimed_until` is in the future, other
-- processes (and overlapping ticks of the same one) leave the row alone. A process that
-- dies mid-batch frees its rows when the claim runs out.
ALTER TABLE record_changes ADD COLUMN claimed_until TEXT;
ALTER TABLE inbound_events ADD COLUMN claimed_until TEXT;
