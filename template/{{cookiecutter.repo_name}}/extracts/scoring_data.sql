-- The rows `modelyard score` predicts: every column the model takes (x_0, x_1, x_2) and a row key.
SELECT row_id, date, x_0, x_1, x_2
FROM new_rows
ORDER BY row_id
