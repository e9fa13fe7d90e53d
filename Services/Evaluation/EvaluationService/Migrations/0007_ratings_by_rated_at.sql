-- ListRatings as keyset pages of a node's ratings in (rated_at, id) order (#21, decision 58): the
-- list read and decoded every rating of the node to show one page.
CREATE INDEX IF NOT EXISTS ratings_node_by_rated_at ON ratings (node, rated_at, id);
