//! STUB in branch `ports` only: replaced by branch `fw` at merge.
use std::net::IpAddr;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    pub bridge: String,
    pub subnets: Vec<ipnet::IpNet>,
    pub internal: bool,
    pub icc: bool,
    pub masquerade: bool,
}
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortRule {
    pub proto: crate::portmap::Proto,
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
    pub container_ip: IpAddr,
    pub container_port: u16,
}
pub struct Firewall {}
impl Firewall {
    pub fn new() -> crate::osl::Result<Firewall> {
        Ok(Firewall {})
    }
    pub fn load(&mut self) -> crate::osl::Result<()> {
        Ok(())
    }
    pub fn add_network(&mut self, _n: &NetworkRules) -> crate::osl::Result<()> {
        Ok(())
    }
    pub fn remove_network(&mut self, _n: &NetworkRules) -> crate::osl::Result<()> {
        Ok(())
    }
    pub fn add_ports(&mut self, _r: &[PortRule]) -> crate::osl::Result<()> {
        Ok(())
    }
    pub fn remove_ports(&mut self, _r: &[PortRule]) -> crate::osl::Result<()> {
        Ok(())
    }
}
pub fn enable_ip_forward(_ipv6: bool) -> crate::osl::Result<Vec<String>> {
    Ok(Vec::new())
}
