#include "controlplane/service/app_spec_patch.h"

namespace berth::controlplane {

model::AppSpec applyPatch(model::AppSpec spec, const AppSpecPatch& p) {
  if (p.kind) spec.kind = *p.kind;
  if (p.image) spec.image = *p.image;
  if (p.command) spec.command = *p.command;
  if (p.env) spec.env = *p.env;
  if (p.ports) spec.ports = *p.ports;
  if (p.replicas) spec.replicas = *p.replicas;
  if (p.vm) spec.vm = p.vm->empty() ? std::nullopt : p.vm;
  if (p.secrets) spec.secrets = *p.secrets;
  if (p.resources) spec.resources = *p.resources;
  if (p.restart) spec.restart = *p.restart;
  if (p.health) spec.health = *p.health;
  return spec;
}

}  // namespace berth::controlplane
