//! Deleting a person is complete: recordings, library submodels, interrupted jobs' checkpoints
//! and the speaker's row in every embedding space go; other speakers' data stays.

mod base_common;
use base_common::shipped_base;

use attune::model::WhisperConfig;
use attune::serve::synthetic;
use attune::store::Home;
use attune::submodel::space::Space;
use attune::submodel::{Kind, Spec};
use attune::workflow::personalize::{Request, unfinished};
use attune::workflow::spaces::space_file;
use attune::workflow::{Workspace, speakers};
use candle_core::Device;

#[test]
fn deleting_a_speaker_removes_everything_of_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(Home::resolve(Some(dir.path())), &shipped_base());
    for id in ["ana", "ben"] {
        speakers::create(&ws, id, None, "", None, None).unwrap();
    }
    let cfg = WhisperConfig::tiny_test();
    let space = synthetic::space(
        "pop",
        4,
        (&cfg, "h"),
        &["ana".into(), "ben".into()],
        1,
        &Device::Cpu,
    )
    .unwrap();
    space.save(&space_file(&ws, "pop").unwrap()).unwrap();
    for who in ["ana", "ana", "ben"] {
        let mut sub = synthetic::submodel(
            &Spec::new(Kind::Residual, 4),
            (&cfg, "h", "tiny"),
            who,
            1,
            0.1,
            &Device::Cpu,
        )
        .unwrap();
        attune::library::add(&ws.home, &mut sub).unwrap();
    }
    // An interrupted job of ana's (as a killed process leaves it).
    let jobs = ws.home.jobs_dir();
    std::fs::create_dir_all(&jobs).unwrap();
    let req = Request::new(vec!["ana".into()]);
    std::fs::write(
        jobs.join(format!("{}-0.json", req.key())),
        serde_json::to_vec(&req).unwrap(),
    )
    .unwrap();
    std::fs::write(jobs.join(format!("{}-0.ckpt", req.key())), b"weights").unwrap();
    assert_eq!(unfinished(&ws), vec![req]);

    let d = speakers::delete(&ws, "ana").unwrap();
    assert_eq!(d.submodels, ["ana-v1", "ana-v2"]);
    assert_eq!(
        (d.jobs, d.spaces.as_slice()),
        (1, ["pop".to_string()].as_slice())
    );
    assert!(!ws.home.speakers_dir().join("ana").exists());
    assert!(unfinished(&ws).is_empty());
    assert_eq!(
        std::fs::read_dir(&jobs).unwrap().count(),
        0,
        "checkpoint gone"
    );
    let after = Space::load(&space_file(&ws, "pop").unwrap(), "h", &Device::Cpu).unwrap();
    assert_eq!(after.meta.speakers, ["ben"]);
    assert_eq!(after.e.dims(), &[1, 1]);
    assert_eq!(after.meta.deleted_speakers, 1);
    // Ben's row is the one that stayed.
    let ben_before = space.e.narrow(0, 1, 1).unwrap().flatten_all().unwrap();
    let ben_after = after.e.flatten_all().unwrap();
    assert_eq!(
        ben_before.to_vec1::<f32>().unwrap(),
        ben_after.to_vec1::<f32>().unwrap()
    );
    let (left, _) = attune::library::list(&ws.home).unwrap();
    assert_eq!(
        left.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["ben-v1"]
    );
    assert!(ws.home.speakers_dir().join("ben").is_dir());
    assert_eq!(
        std::fs::read_dir(ws.home.trash_dir()).unwrap().count(),
        0,
        "the trash is emptied"
    );
}
