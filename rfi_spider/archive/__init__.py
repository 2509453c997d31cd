"""The archive: state, exporters, seed-style files, pipelines."""
