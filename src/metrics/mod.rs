//! Prometheus metrics of the services: rendered as text ([`text`], pure).
pub mod text;
