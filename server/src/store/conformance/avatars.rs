//! Avatar images kept apart from binding records (issue #25): a record holds only the image's
//! reference, the image is read back by its own call and goes with its binding.

use super::{avatar, binding};
use crate::store::{Store, StoredAvatar};
use app::api::Provider::{GitHub, GitLab};

pub async fn avatars_apart_and_removed_with_binding(s: &dyn Store) {
    let image = avatar();
    // None for a binding that does not exist: an image never outlives its binding.
    s.put_avatar("t1", GitLab, Some(&image)).await.unwrap();
    assert_eq!(s.avatar("t1", GitLab).await.unwrap(), None, "no binding");

    let b = binding("t1", GitLab, "alice");
    s.put(&b).await.unwrap();
    s.put_avatar("t1", GitLab, Some(&image)).await.unwrap();
    let got = s.get("t1", GitLab).await.unwrap().unwrap();
    assert_eq!(got.avatar, Some(image.reference()), "only the reference");
    let json = serde_json::to_string(&s.list("t1").await.unwrap()).unwrap();
    assert!(
        !json.contains(&image.data_b64),
        "the record carries no image"
    );
    assert_eq!(s.avatar("t1", GitLab).await.unwrap(), Some(image.clone()));
    assert_eq!(s.avatar("t10", GitLab).await.unwrap(), None, "tenant-bound");
    assert_eq!(s.avatar("t1", GitHub).await.unwrap(), None);

    let other = StoredAvatar {
        data_b64: "R0lGODlh".into(),
        content_type: "image/gif".into(),
        sha256: "cd".repeat(32),
    };
    s.put_avatar("t1", GitLab, Some(&other)).await.unwrap();
    assert_eq!(s.avatar("t1", GitLab).await.unwrap(), Some(other.clone()));
    s.put_avatar("t1", GitLab, None).await.unwrap();
    assert_eq!(s.avatar("t1", GitLab).await.unwrap(), None, "removed");

    s.put_avatar("t1", GitLab, Some(&image)).await.unwrap();
    s.delete("t1", GitLab).await.unwrap().unwrap();
    assert_eq!(
        s.avatar("t1", GitLab).await.unwrap(),
        None,
        "removed with the binding"
    );
    // Bound again without an avatar: the old image does not come back.
    s.put(&b).await.unwrap();
    assert_eq!(s.avatar("t1", GitLab).await.unwrap(), None);

    // Unbinding with a cleanup job removes the image in the same write.
    s.put_avatar("t1", GitLab, Some(&image)).await.unwrap();
    let job = super::jobs::job("j1", "t1", "alice");
    assert!(s.unbind_with_job(&b, &job, 0).await.unwrap());
    assert_eq!(s.avatar("t1", GitLab).await.unwrap(), None, "unbound");
}
