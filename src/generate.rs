//! Placeholder until the synthetic generator lands.
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub customers: usize,
    pub days: u32,
    pub end: NaiveDate,
    pub seed: u64,
}
pub struct GeneratedDay {
    pub arrival_date: NaiveDate,
    pub batch: RecordBatch,
}
pub struct GenerateSummary {
    pub events: usize,
    pub customers: usize,
    pub prospects: usize,
    pub late_events: usize,
    pub duplicate_events: usize,
}
pub fn touchpoint_schema() -> SchemaRef {
    std::sync::Arc::new(arrow::datatypes::Schema::empty())
}
pub fn generate(_opts: &GenerateOptions) -> (Vec<GeneratedDay>, GenerateSummary) {
    (
        vec![],
        GenerateSummary {
            events: 0,
            customers: 0,
            prospects: 0,
            late_events: 0,
            duplicate_events: 0,
        },
    )
}
