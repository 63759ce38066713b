"""The report of ``srlm reproduce``: figures (:mod:`.figures`) and the HTML page (:mod:`.html`)."""
