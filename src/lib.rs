pub mod iterate;
pub mod value;
