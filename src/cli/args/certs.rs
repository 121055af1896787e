//! Command-line types of `drctl certs`.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum CertsCommand {
    /// Create a cluster CA (ca.pem, ca.key) in DIR.
    Init {
        /// Where the CA goes.
        #[arg(long)]
        dir: PathBuf,
        /// Cluster name, also the group identity in node certificates.
        #[arg(long = "cluster-name", default_value = "drctl")]
        cluster_name: String,
    },
    /// Issue NAME.pem / NAME.key signed by DIR's CA, naming the node and the cluster.
    Issue {
        /// The node's name (the certificate's subject).
        name: String,
        /// The CA's directory; the certificate is written there too.
        #[arg(long)]
        dir: PathBuf,
        /// Cluster name, also the group identity in node certificates.
        #[arg(long = "cluster-name", default_value = "drctl")]
        cluster_name: String,
        /// Extra subject alternative names (host names or IP addresses).
        #[arg(long = "san")]
        sans: Vec<String>,
    },
}
