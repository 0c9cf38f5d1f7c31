-- v15 -> v16: Indexes for a desk with thousands of open cases and years of closed ones (routing, !queue, !stats)
-- Measured with cmd/benchscale (docs/benchmarks.md, "Scale"): 2,000 volunteers, 100,000
-- closed cases, 10,000 open or queued ones.
-- A volunteer's load (cases offered to or worked by them) is counted for every
-- candidate of every routing decision; cases_volunteer also holds every closed case
-- they ever had, which the count had to step over.
CREATE INDEX cases_load ON cases (volunteer_id) WHERE state IN ('offered', 'accepted', 'active');
-- The waiting list (!queue), the routing sweep (oldest queued first) and a case's
-- place in the queue, without sorting every open case.
CREATE INDEX cases_waiting ON cases (queued_at, id) WHERE route = 'volunteer' AND state IN ('queued', 'offered');
-- !stats reads the last 7 or 30 days of volunteer-route work, not the whole history.
CREATE INDEX cases_volunteer_queued ON cases (queued_at) WHERE route = 'volunteer';
CREATE INDEX cases_volunteer_closed ON cases (closed_at) WHERE route = 'volunteer';
CREATE INDEX cases_volunteer_first_reply ON cases (first_reply_at) WHERE route = 'volunteer';
CREATE INDEX offers_refused ON offers (answered_at) WHERE state IN ('declined', 'expired');
