"""Your data: the ledger of every use, export, deletion and retention."""
