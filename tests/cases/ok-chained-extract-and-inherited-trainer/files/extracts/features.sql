SELECT * FROM "extracts"."extract_inputs__training_data"
