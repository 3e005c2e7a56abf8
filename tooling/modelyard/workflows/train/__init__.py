"""The train workflow (extract -> train -> evaluate -> register) and the pieces the other kinds build on."""
