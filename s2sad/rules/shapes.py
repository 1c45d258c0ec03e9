"""Shape and arrangement: concatenate, stack, flip, roll, tile, sort, ... (to be filled)."""
