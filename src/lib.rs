//! attune: personalize a Whisper recognizer to one speaker at a time with tiny submodels on a
//! frozen shared base. See ARCHITECTURE.md for the map.

pub mod audio;
pub mod cli;
pub mod dataset;
pub mod enroll;
pub mod eval;
pub mod export;
pub mod features;
pub mod fuzzing;
pub mod library;
pub mod model;
pub mod recognizer;
pub mod serve;
pub mod shipped;
pub mod store;
pub mod submodel;
pub mod tensor_io;
pub mod train;
pub mod tui;
pub mod util;
pub mod workflow;
