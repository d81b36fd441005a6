//! Uncorrelated scalar subqueries are computed before their query runs and put in as literals.
//! DataFusion joins such a subquery to the rows it is compared with, so a filter like
//! `event_date >= (select min(since) from …)` becomes a nested-loop join over every stored row;
//! as a literal, the filter is pushed into the scan, whose row-group statistics skip the days
//! before it (`int_customer_days` on a night).

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan, Subquery};
use datafusion::prelude::{DataFrame, SessionContext, lit};

use crate::error::Result;

/// `df` with each scalar subquery that reads nothing of its outer query replaced by its value.
pub async fn computed_first(ctx: &SessionContext, df: DataFrame) -> Result<DataFrame> {
    let (state, mut plan) = df.into_parts();
    while let Some(subquery) = first_uncorrelated(&plan)? {
        let value = value_of(ctx, &subquery).await?;
        plan = replaced(plan, &subquery, &value)?;
    }
    Ok(DataFrame::new(state, plan))
}

fn first_uncorrelated(plan: &LogicalPlan) -> Result<Option<Subquery>> {
    let mut found = None;
    plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| match e {
                Expr::ScalarSubquery(s) if s.outer_ref_columns.is_empty() => {
                    found = Some(s.clone());
                    Ok(TreeNodeRecursion::Stop)
                }
                _ => Ok(TreeNodeRecursion::Continue),
            })
        })
    })?;
    Ok(found)
}

/// The subquery's one value; null when it returns no row, as SQL has it.
async fn value_of(ctx: &SessionContext, subquery: &Subquery) -> Result<ScalarValue> {
    let plan = subquery.subquery.as_ref().clone();
    let field = plan.schema().field(0).clone();
    let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
    let mut rows = batches.iter().filter(|b| b.num_rows() > 0);
    let value = match (rows.next(), rows.next()) {
        (None, _) => ScalarValue::try_from(field.data_type())?,
        (Some(batch), None) if batch.num_rows() == 1 => {
            ScalarValue::try_from_array(batch.column(0), 0)?
        }
        _ => {
            return Err(DataFusionError::Execution(format!(
                "a scalar subquery (the one giving {}) returned more than one row; \
                 make it return one value, with an aggregate or a limit",
                field.name()
            ))
            .into());
        }
    };
    Ok(value)
}

fn replaced(plan: LogicalPlan, subquery: &Subquery, value: &ScalarValue) -> Result<LogicalPlan> {
    let plan = plan.transform_up_with_subqueries(|node| {
        // A projection's column is named after its expression: keep the name it had.
        let names = NamePreserver::new(&node);
        node.map_expressions(|expr| {
            let name = names.save(&expr);
            let rewritten = expr.transform_up(|e| match e {
                Expr::ScalarSubquery(s) if s == *subquery => {
                    Ok(Transformed::yes(lit(value.clone())))
                }
                e => Ok(Transformed::no(e)),
            })?;
            Ok(rewritten.update_data(|e| name.restore(e)))
        })
    })?;
    Ok(plan.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use datafusion::datasource::MemTable;
    use std::sync::Arc;

    fn context() -> SessionContext {
        let ctx = SessionContext::new();
        let days = Arc::new(Schema::new(vec![
            Field::new("day", DataType::Date32, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&days),
            vec![
                Arc::new(Date32Array::from(vec![20_000, 20_001, 20_002, 20_003])),
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
            ],
        )
        .expect("a batch of the schema");
        let table = MemTable::try_new(days, vec![vec![batch]]).expect("a table of the batch");
        ctx.register_table("days", Arc::new(table))
            .expect("registered");
        ctx
    }

    async fn rows(ctx: &SessionContext, sql: &str) -> Result<(String, Vec<RecordBatch>)> {
        let df = computed_first(ctx, ctx.sql(sql).await?).await?;
        let plan = format!("{}", df.clone().into_optimized_plan()?.display_indent());
        Ok((plan, df.collect().await?))
    }

    #[tokio::test]
    async fn a_filter_by_an_uncorrelated_subquery_filters_by_its_value_without_a_join() {
        let ctx = context();
        let sql = "select sum(n) as total, (select max(n) from days) as top from days \
                   where day >= (select min(day) + 2 from days)";
        let (plan, batches) = rows(&ctx, sql).await.expect("the query runs");
        assert!(!plan.contains("Join"), "{plan}");
        let shown = arrow::util::pretty::pretty_format_batches(&batches).expect("shown");
        // Days 20002 and 20003: 3 + 4; the column keeps the name its query gave it.
        assert!(shown.to_string().contains("| 7     | 4   |"), "{shown}");
    }

    #[tokio::test]
    async fn a_subquery_without_rows_is_null_and_one_with_two_rows_is_an_error() {
        let ctx = context();
        let (_, batches) = rows(
            &ctx,
            "select count(*) as c from days where n > (select n from days where n > 9)",
        )
        .await
        .expect("the query runs");
        let shown = arrow::util::pretty::pretty_format_batches(&batches).expect("shown");
        assert!(shown.to_string().contains("| 0 |"), "{shown}");
        let error = rows(&ctx, "select (select n from days) as n")
            .await
            .expect_err("two rows for one value");
        assert!(error.to_string().contains("more than one row"), "{error}");
    }

    #[tokio::test]
    async fn a_correlated_subquery_is_left_to_the_planner() {
        let ctx = context();
        let sql = "select d.n from days as d \
                   where d.n = (select max(e.n) from days as e where e.day = d.day) order by d.n";
        let (_, batches) = rows(&ctx, sql).await.expect("the query runs");
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(total, 4);
    }
}
