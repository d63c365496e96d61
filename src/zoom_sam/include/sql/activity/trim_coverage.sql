-- After the retention purge, the coverage starts no earlier than the cutoff: it says what remains
-- analysable. A coverage ending before the cutoff keeps an empty span at its end, so the next run
-- still continues from there instead of starting over.
UPDATE activity_coverage
SET covered_from = CASE WHEN covered_to < :cutoff THEN covered_to ELSE :cutoff END
WHERE profile_alias = :alias
  AND covered_from < :cutoff
