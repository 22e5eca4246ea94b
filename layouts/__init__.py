"""layouts: reportlab drawing of print batches (address sheets, notification cards,
application forms), the geometry spec, fonts, barcodes, QR codes and the batch writer.

Public entry points (see docs/architecture.md, "Layouts"):
``layouts.batch.write_batch``, ``layouts.batch.batch_is_complete``,
``layouts.batch.PrintSettings``, ``layouts.fonts.undrawable_characters``.
Submodules are imported on use, so ``import layouts`` stays cheap for the CLI.
"""
