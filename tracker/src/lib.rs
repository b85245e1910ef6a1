//! `sightline-tracker`: what a Rust service needs to feed Sightline.
//!
//! This crate is the single source of truth for Sightline's ingest format: the server
//! deserialises exactly the types in [`wire`], and the tower layer serialises them.

pub mod wire;
