#include "detect/sigma/logsource.h"

#include <utility>

namespace faultline::sigma {
namespace {

struct ServiceEntry {
  std::string_view service;
  std::vector<std::string_view> channels;
};

// pySigma's windows_logsource_mapping (sigma/pipelines/windows), plus the services SigmaHQ's
// rules name that it lacks, with the channel their events are logged to.
const std::vector<ServiceEntry>& Services() {
  static const auto* table = new std::vector<ServiceEntry>{
      {"security", {"Security"}},
      {"application", {"Application"}},
      {"system", {"System"}},
      {"sysmon", {"Microsoft-Windows-Sysmon/Operational"}},
      {"powershell", {"Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"}},
      {"powershell-classic", {"Windows PowerShell"}},
      {"taskscheduler", {"Microsoft-Windows-TaskScheduler/Operational"}},
      {"wmi", {"Microsoft-Windows-WMI-Activity/Operational"}},
      {"dns-server", {"DNS Server"}},
      {"dns-server-audit", {"Microsoft-Windows-DNS-Server/Audit"}},
      {"dns-server-analytic", {"Microsoft-Windows-DNS-Server/Analytical"}},
      {"driver-framework", {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"}},
      {"ntlm", {"Microsoft-Windows-NTLM/Operational"}},
      {"dhcp", {"Microsoft-Windows-DHCP-Server/Operational"}},
      {"msexchange-management", {"MSExchange Management"}},
      {"applocker",
       {"Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution"}},
      {"printservice-admin", {"Microsoft-Windows-PrintService/Admin"}},
      {"printservice-operational", {"Microsoft-Windows-PrintService/Operational"}},
      {"codeintegrity-operational", {"Microsoft-Windows-CodeIntegrity/Operational"}},
      {"smbclient-security", {"Microsoft-Windows-SmbClient/Security"}},
      {"smbclient-connectivity", {"Microsoft-Windows-SmbClient/Connectivity"}},
      {"smbserver-connectivity", {"Microsoft-Windows-SMBServer/Connectivity"}},
      {"firewall-as", {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"}},
      {"bits-client", {"Microsoft-Windows-Bits-Client/Operational"}},
      {"windefend", {"Microsoft-Windows-Windows Defender/Operational"}},
      {"terminalservices-localsessionmanager",
       {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"}},
      {"microsoft-servicebus-client",
       {"Microsoft-ServiceBus-Client/Operational", "Microsoft-ServiceBus-Client/Admin"}},
      {"servicebus-client",
       {"Microsoft-ServiceBus-Client/Operational", "Microsoft-ServiceBus-Client/Admin"}},
      {"ldap", {"Microsoft-Windows-LDAP-Client/Debug"}},
      {"ldap_debug", {"Microsoft-Windows-LDAP-Client/Debug"}},
      {"security-mitigations",
       {"Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode"}},
      {"diagnosis-scripted", {"Microsoft-Windows-Diagnosis-Scripted/Operational"}},
      {"shell-core", {"Microsoft-Windows-Shell-Core/Operational"}},
      {"openssh", {"OpenSSH/Operational"}},
      {"appxdeployment-server", {"Microsoft-Windows-AppXDeploymentServer/Operational"}},
      {"appxpackaging-om", {"Microsoft-Windows-AppxPackaging/Operational"}},
      {"appmodel-runtime", {"Microsoft-Windows-AppModel-Runtime/Admin"}},
      {"capi2", {"Microsoft-Windows-CAPI2/Operational"}},
      {"certificateservicesclient-lifecycle-system",
       {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"}},
      {"dns-client", {"Microsoft-Windows-DNS Client Events/Operational"}},
      {"lsa-server", {"Microsoft-Windows-LSA/Operational"}},
      {"iis-configuration", {"Microsoft-IIS-Configuration/Operational"}},
      {"kernel-shimengine",
       {"Microsoft-Windows-Kernel-ShimEngine/Operational",
        "Microsoft-Windows-Kernel-ShimEngine/Diagnostic"}},
      {"hyper-v-worker", {"Microsoft-Windows-Hyper-V-Worker"}},
      {"vhdmp", {"Microsoft-Windows-VHDMP/Operational"}},
      {"wmi-activity", {"Microsoft-Windows-WMI-Activity/Operational"}},
  };
  return *table;
}

struct CategoryEntry {
  std::string_view category;
  std::vector<std::string_view> channels;
  std::vector<uint32_t> event_ids;
};

constexpr std::string_view kSysmon = "Microsoft-Windows-Sysmon/Operational";
constexpr std::string_view kPowerShell = "Microsoft-Windows-PowerShell/Operational";
constexpr std::string_view kPowerShellCore = "PowerShellCore/Operational";

// pySigma's sysmon_generic_logsource_eventid_mapping, and the PowerShell categories of its
// windows pipeline.
const std::vector<CategoryEntry>& Categories() {
  static const auto* table = new std::vector<CategoryEntry>{
      {"process_creation", {kSysmon}, {1}},
      {"file_change", {kSysmon}, {2}},
      {"network_connection", {kSysmon}, {3}},
      {"sysmon_status", {kSysmon}, {4, 16}},
      {"process_termination", {kSysmon}, {5}},
      {"driver_load", {kSysmon}, {6}},
      {"image_load", {kSysmon}, {7}},
      {"create_remote_thread", {kSysmon}, {8}},
      {"raw_access_thread", {kSysmon}, {9}},
      {"process_access", {kSysmon}, {10}},
      {"file_event", {kSysmon}, {11}},
      {"registry_add", {kSysmon}, {12}},
      {"registry_delete", {kSysmon}, {12}},
      {"registry_set", {kSysmon}, {13}},
      {"registry_rename", {kSysmon}, {14}},
      {"registry_event", {kSysmon}, {12, 13, 14}},
      {"create_stream_hash", {kSysmon}, {15}},
      {"pipe_created", {kSysmon}, {17, 18}},
      {"wmi_event", {kSysmon}, {19, 20, 21}},
      {"dns_query", {kSysmon}, {22}},
      {"file_delete", {kSysmon}, {23}},
      {"clipboard_capture", {kSysmon}, {24}},
      {"process_tampering", {kSysmon}, {25}},
      {"file_delete_detected", {kSysmon}, {26}},
      {"file_block_executable", {kSysmon}, {27}},
      {"file_block_shredding", {kSysmon}, {28}},
      {"file_executable_detected", {kSysmon}, {29}},
      {"sysmon_error", {kSysmon}, {255}},
      {"ps_module", {kPowerShell, kPowerShellCore}, {4103}},
      {"ps_script", {kPowerShell, kPowerShellCore}, {4104}},
      {"ps_classic_start", {"Windows PowerShell"}, {400}},
      {"ps_classic_provider_start", {"Windows PowerShell"}, {600}},
      {"ps_classic_script", {"Windows PowerShell"}, {800}},
  };
  return *table;
}

}  // namespace

bool ServiceRoute(std::string_view service, LogsourceRoute* out) {
  for (const ServiceEntry& e : Services()) {
    if (e.service != service) continue;
    out->channels.assign(e.channels.begin(), e.channels.end());
    out->event_ids.clear();
    return true;
  }
  return false;
}

bool CategoryRoute(std::string_view category, LogsourceRoute* out) {
  for (const CategoryEntry& e : Categories()) {
    if (e.category != category) continue;
    out->channels.assign(e.channels.begin(), e.channels.end());
    out->event_ids = e.event_ids;
    return true;
  }
  return false;
}

}  // namespace faultline::sigma
