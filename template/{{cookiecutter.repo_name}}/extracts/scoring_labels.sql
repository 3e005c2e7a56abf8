-- The true y of scored rows, joined to their predictions on row_id (monitoring.key).
SELECT row_id, y
FROM new_rows
