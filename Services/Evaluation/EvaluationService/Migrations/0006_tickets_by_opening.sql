-- The board's tickets by opening day (#21, scripts/bench-million-rows): figures count a ticket in
-- the periods it was opened in and warnings follow the unsettled ones (`rectifications_status`),
-- so the read takes those two sets instead of every ticket ever opened (308 ms at 1,000,000
-- ratings with every ticket read; 45 ms narrowed on this index).
CREATE INDEX IF NOT EXISTS rectifications_opened ON rectifications (opened_on);
