//! Pieces shared by the pages: the page frame, cards and charts.

pub mod budget_card;
pub mod card;
pub mod chart;
pub mod charts;
pub mod error_cards;
pub mod layout;
pub mod list_view;
pub mod range_picker;
pub mod ranked_view;
pub mod report_cards;
pub mod security_cards;
pub mod security_charts;
pub mod table_card;
