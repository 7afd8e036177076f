//! The development transport: one RFC 5322 `.eml` file per message in `MAIL_OUTBOX_DIR`.
//! Files are named by message id and written atomically (temp file + rename), so a retried
//! delivery rewrites the same file instead of producing a second message.

use std::path::PathBuf;

use lettre::Message;

use super::{MailError, OutgoingMail, SendFuture, Transport};

pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: PathBuf) -> FileTransport {
        FileTransport { dir }
    }
}

impl Transport for FileTransport {
    fn send<'a>(&'a self, message: &'a Message, mail: &'a OutgoingMail) -> SendFuture<'a> {
        Box::pin(async move {
            let bytes = message.formatted();
            let transient = |e: std::io::Error| MailError::Transient(format!("write .eml: {e}"));
            tokio::fs::create_dir_all(&self.dir)
                .await
                .map_err(transient)?;
            let final_path = self.dir.join(format!("{}.eml", mail.id));
            let tmp = self.dir.join(format!(".{}.eml.tmp", mail.id));
            tokio::fs::write(&tmp, &bytes).await.map_err(transient)?;
            tokio::fs::rename(&tmp, &final_path)
                .await
                .map_err(transient)?;
            Ok(())
        })
    }

    fn name(&self) -> &'static str {
        "file"
    }
}
