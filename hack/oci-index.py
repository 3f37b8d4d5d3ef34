#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# One image name, two platforms, without a registry or buildx (this machine's Docker 20.10 has
# neither): writes an OCI image layout, as an oci-archive tarball, whose index.json names one OCI
# image index holding a linux/amd64 and a linux/arm64 image manifest.
#
#   oci-index.py OUT.tar REF DOCKER_SAVE.tar ARM64_ROOTFS_DIR
#
# - linux/amd64: the image `make images` built, from `docker save` (its layers, gzip-compressed,
#   and its config byte for byte, so the image ID stays the one `docker images` shows);
# - linux/arm64: one layer, the root filesystem hack/cross.sh assembled, and the amd64 image's
#   config (entrypoint, env, user, labels) with architecture arm64 and that layer.
# Layers are gzip-compressed; the arm64 layer is reproducible (sorted, owner 0, fixed mtime).
# REF becomes the index's org.opencontainers.image.ref.name, so `skopeo copy --all
# oci-archive:OUT.tar:REF docker://REGISTRY/NAME:TAG` pushes both platforms under one tag
# (.github/workflows/release.yml).
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def blob(self, data, media_type, **extra):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.root, "blobs", "sha256", digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data), **extra}

    def json_blob(self, obj, media_type, **extra):
        return self.blob(json.dumps(obj, separators=(",", ":"), sort_keys=True).encode(), media_type, **extra)

    def layer(self, tar_bytes):
        """A gzip layer blob and its diff_id (the digest of the uncompressed tar)."""
        gz = gzip.compress(tar_bytes, compresslevel=9, mtime=0)
        return self.blob(gz, OCI_LAYER_GZ), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def amd64_image(layout, docker_save):
    with tarfile.open(docker_save) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        if len(manifest) != 1:
            sys.exit(f"{docker_save}: {len(manifest)} images, want one")
        config_raw = t.extractfile(manifest[0]["Config"]).read()
        config = json.loads(config_raw)
        layers, diff_ids = [], []
        for name in manifest[0]["Layers"]:
            desc, diff_id = layout.layer(t.extractfile(name).read())
            layers.append(desc)
            diff_ids.append(diff_id)
    # The layers are the ones the config names: the image stays the image Docker built.
    if diff_ids != config["rootfs"]["diff_ids"]:
        sys.exit(f"{docker_save}: its layers do not match its config's diff_ids")
    return config, config_raw, layers


def rootfs_tar(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                info = t.gettarinfo(path, arcname=os.path.relpath(path, root))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                if info.isfile():
                    with open(path, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def manifest_for(layout, config_desc, layers, platform):
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc, "layers": layers}
    return layout.json_blob(manifest, OCI_MANIFEST, platform=platform)


def main():
    out, ref, docker_save, arm64_root = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(tmp)
        amd64_config, amd64_config_raw, amd64_layers = amd64_image(layout, docker_save)
        # The config's bytes as Docker wrote them: its digest is the image ID.
        amd64 = manifest_for(layout, layout.blob(amd64_config_raw, OCI_CONFIG), amd64_layers,
                             {"architecture": "amd64", "os": "linux"})

        arm64_layer, arm64_diff = layout.layer(rootfs_tar(arm64_root))
        arm64_config = {
            "architecture": "arm64",
            "variant": "v8",
            "os": "linux",
            "created": amd64_config.get("created"),
            "config": amd64_config.get("config", {}),
            "rootfs": {"type": "layers", "diff_ids": [arm64_diff]},
            "history": [{"created": amd64_config.get("created"), "created_by": "hack/cross.sh (cross-built root filesystem)"}],
        }
        arm64 = manifest_for(layout, layout.json_blob(arm64_config, OCI_CONFIG), [arm64_layer],
                             {"architecture": "arm64", "os": "linux", "variant": "v8"})

        index = layout.json_blob({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd64, arm64]},
                                 OCI_INDEX, annotations={"org.opencontainers.image.ref.name": ref})
        with open(os.path.join(tmp, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [index]}, f)
        with open(os.path.join(tmp, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        with tarfile.open(out + ".tmp", "w") as t:
            names = ["oci-layout", "index.json", "blobs", "blobs/sha256"] + sorted(
                "blobs/sha256/" + b for b in os.listdir(os.path.join(tmp, "blobs", "sha256")))
            for name in names:
                t.add(os.path.join(tmp, name), arcname=name, recursive=False)
        os.replace(out + ".tmp", out)
    print(f"{out}: {ref}, index {index['digest']}: linux/amd64 {amd64['digest']}, linux/arm64 {arm64['digest']}")


if __name__ == "__main__":
    main()
