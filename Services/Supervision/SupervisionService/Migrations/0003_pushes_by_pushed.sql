-- The bureau's list of every push, newest first, as keyset pages (#21, decision 58): a
-- department's page reads `pushes_inbox` in order; the bureau's (no department filter) needs the
-- same order over all departments, which it sorted in full for every page.
CREATE INDEX IF NOT EXISTS pushes_by_pushed ON pushes (pushed_at DESC, id);
