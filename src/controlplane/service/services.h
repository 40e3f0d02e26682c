#pragma once
// The control plane's services over one store, wired together: one per resource, each taking
// typed commands and answering with results; none knows about HTTP. Every mutation is
// authorized, validated against quotas and current state, written together with its audit
// event in one transaction, and durable when the call returns. berthd builds one Services; the
// API (api/) calls nothing else.
//
// Thread-safe once configured (secrets.useSecretBox, images.useImporter): all state lives in
// the Store, except TokenService's principal cache, which has its mutex. The services refer to
// `context` and to each other, so a Services neither copies nor moves; the store and the clock
// must outlive it.

#include "controlplane/service/app_service.h"
#include "controlplane/service/domain_service.h"
#include "controlplane/service/event_service.h"
#include "controlplane/service/image_service.h"
#include "controlplane/service/node_service.h"
#include "controlplane/service/project_service.h"
#include "controlplane/service/secret_service.h"
#include "controlplane/service/service_context.h"
#include "controlplane/service/session_service.h"
#include "controlplane/service/token_service.h"
#include "controlplane/service/vm_service.h"

namespace berth::controlplane {

struct Services {
  Services(store::Store& store, const Clock& clock, NetworkPool networks = {},
           HostPortRange host_ports = {}, std::string base_domain = {})
      : context{store, clock, std::move(networks), host_ports, std::move(base_domain)},
        tokens(context),
        projects(context, tokens),
        vms(context),
        apps(context),
        secrets(context),
        domains(context),
        images(context),
        nodes(context, secrets),
        sessions(context),
        events(context) {}
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  const ServiceContext context;
  TokenService tokens;
  ProjectService projects;
  VmService vms;
  AppService apps;
  SecretService secrets;
  DomainService domains;
  ImageService images;
  NodeService nodes;
  SessionService sessions;
  EventService events;
};

}  // namespace berth::controlplane
