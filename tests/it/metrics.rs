//! Core metric tests (in progress).
