//! The Redis engine: the value kept in a Redis server, reached from every worker after its fork.

pub(crate) mod lua;
