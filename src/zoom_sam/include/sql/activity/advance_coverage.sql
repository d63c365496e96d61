-- A window every holder completed joins the coverage when it touches or overlaps it; the span
-- only grows and stays contiguous, whatever order runs (a backfill, daily runs) complete in:
--   covered_to grows to the window end when the window starts inside or at the end of coverage;
--   covered_from shrinks to the window start when the window ends inside or at its start
--   (a backfill run backwards extends the history into the past).
-- A window with a gap to the coverage changes nothing: its events are kept, but the gap is not
-- claimed as covered. CASE rather than GREATEST/LEAST or max()/min(): one text for both dialects.
UPDATE activity_coverage
SET covered_to = CASE
        WHEN :window_start <= covered_to AND :window_end > covered_to THEN :window_end
        ELSE covered_to END,
    covered_from = CASE
        WHEN :window_end >= covered_from AND :window_start < covered_from THEN :window_start
        ELSE covered_from END,
    source = :source,
    last_run_id = :run_id,
    updated_at = :now
WHERE profile_alias = :alias
