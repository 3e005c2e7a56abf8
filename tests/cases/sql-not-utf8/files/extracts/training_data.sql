-- café au lait
SELECT * FROM sample_data LIMIT {{ limit }}
