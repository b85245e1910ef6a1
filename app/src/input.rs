//! What is wrong with what an account typed into a form (a rating, a price, a budget,
//! the retention): each text says what to type instead.

use crate::budgets::MAX_USER_ID_CHARS;
use crate::requests::MAX_COMMENT_CHARS;
use crate::settings::RETENTION_DAYS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("a rating is 1 to 5 stars, not {0}")]
    Rating(i32),
    #[error(
        "the comment is {chars} characters long: at most {} fit",
        MAX_COMMENT_CHARS
    )]
    LongComment { chars: usize },
    #[error("the {name} price `{text}` is not a number: give USD per million tokens, e.g. 2.5")]
    Price { name: &'static str, text: String },
    #[error(
        "give a whole number of days between {} and {}",
        RETENTION_DAYS.start(),
        RETENTION_DAYS.end()
    )]
    RetentionDays,
    #[error("the {what} budget `{text}` is not a number: give USD, e.g. 250 or 12.50")]
    BudgetNotANumber { what: String, text: String },
    #[error("the {what} budget must be from $0.01 to $10,000,000, or empty for none")]
    BudgetOutOfRange { what: String },
    #[error(
        "give the user's id as the platform sends it: 1 to {} characters",
        MAX_USER_ID_CHARS
    )]
    BudgetUser,
}
