package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// Flood limits of the test network's connection class. fakelag is off, so a
// client that goes over them is disconnected for "Excess Flood", as on
// Libera.Chat: a bot that floods fails its tests instead of being slowed down
// silently. InspIRCd adds a penalty of one command per message (two for some,
// such as WHOIS), takes back IRCCommandRate once a second, and drops a client
// whose penalty reaches IRCThreshold: within any one second, a client may send
// at most IRCThreshold commands, bursts included.
const (
	// IRCCommandRate is the sustained rate the server allows, in commands per second.
	IRCCommandRate = 100
	// IRCThreshold is the most commands the server takes within a second.
	IRCThreshold = 100
)

// inspircdConf is the server: clients and the services link on loopback only,
// no DNS or ident lookups (each would add seconds to a connection), and the
// IRCv3 modules the bot relies on (labeled-response lets it know the server
// took a line). The registrar has a port and class of its own without flood
// limits, so that tests may register accounts as fast as they like. MONITOR allows many entries, since one
// test network serves many tests at once.
func (n *IRC) inspircdConf() string {
	return fmt.Sprintf(`<server name="irc.local" description="Switchboard test network" id="0AA" network="SwitchboardTest">
<admin name="testenv" nick="testenv" email="testenv@localhost">
<bind address="127.0.0.1" port="%[2]d" type="clients">
<bind address="127.0.0.1" port="%[3]d" type="servers">
<bind address="127.0.0.1" port="%[7]d" type="clients">
<bind address="127.0.0.1" port="%[8]d" type="clients" sslprofile="clients">
<sslprofile name="clients" provider="gnutls" certfile="%[1]s/cert.pem" keyfile="%[1]s/key.pem" hash="sha256" requestclientcert="no">
<connect name="tools" allow="*" port="%[7]d" timeout="20" pingfreq="120" hardsendq="8388608" softsendq="1048576"
	recvq="1048576" threshold="1000000" commandrate="100000000" fakelag="off" localmax="5000" globalmax="5000"
	useident="no" limit="100" resolvehostnames="no">
<connect name="main" allow="*" timeout="20" pingfreq="120" hardsendq="8388608" softsendq="1048576" recvq="65536"
	threshold="%[4]d" commandrate="%[5]d" fakelag="off" localmax="5000" globalmax="5000" useident="no"
	limit="10000" resolvehostnames="no" maxchans="50">
<cidr ipv4clone="32" ipv6clone="128">
<dns server="127.0.0.1" timeout="1">
<pid file="%[1]s/inspircd.pid">
<options prefixquit="Quit: " defaultmodes="nt">
<security hidesplits="no" announceinvites="dynamic" userstats="Pu">
<performance clonesonconnect="yes" timeskipwarn="0" quietbursts="yes" nouserdns="yes" somaxconn="512" softlimit="12800">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="%[1]s/inspircd.log">
<files motd="%[1]s/motd.txt">
<module name="spanningtree">
<module name="services_account">
<module name="cap">
<module name="ircv3">
<module name="ircv3_accounttag">
<module name="ircv3_ctctags">
<module name="ircv3_servertime">
<module name="ircv3_msgid">
<module name="ircv3_batch">
<module name="ircv3_labeledresponse">
<module name="monitor">
<module name="sasl">
<module name="svshold">
<module name="chghost">
<module name="cban">
<module name="ssl_gnutls">
<ircv3 accountnotify="yes" awaynotify="yes" extendedjoin="yes">
<monitor maxentries="1000">
<sasl target="services.local" requiressl="no">
<link name="services.local" ipaddr="127.0.0.1" port="%[3]d" allowmask="127.0.0.0/8" sendpass="%[6]s" recvpass="%[6]s">
<uline server="services.local" silent="yes">
`, n.dir, n.port, n.linkPort, IRCThreshold, IRCCommandRate*1000, n.linkPass, n.toolsPort, n.tlsPort)
}

// athemeConf is the services: NickServ accounts and SASL PLAIN. Rate limits and
// flood protection are off so that tests may register many accounts at once;
// recontime 1 brings the link back a second after the server restarts.
func (n *IRC) athemeConf() string {
	return fmt.Sprintf(`loadmodule "modules/protocol/inspircd";
loadmodule "modules/backend/opensex";
loadmodule "modules/crypto/pbkdf2v2";
loadmodule "modules/nickserv/main";
loadmodule "modules/nickserv/register";
loadmodule "modules/nickserv/identify";
loadmodule "modules/nickserv/logout";
loadmodule "modules/nickserv/ghost";
loadmodule "modules/saslserv/main";
loadmodule "modules/saslserv/plain";
serverinfo {
	name = "services.local";
	desc = "Atheme IRC Services";
	numeric = "00A";
	recontime = 1;
	netname = "SwitchboardTest";
	hidehostsuffix = "users.test";
	adminname = "testenv";
	adminemail = "testenv@localhost";
	registeremail = "noreply@localhost";
	auth = none;
	casemapping = rfc1459;
	maxlogins = 50;
	maxusers = 0;
	mdlimit = 30;
	emaillimit = 10;
	emailtime = 300;
	loglevel = { admin; error; info; network; };
};
uplink "irc.local" {
	host = "127.0.0.1";
	port = %[1]d;
	send_password = "%[2]s";
	receive_password = "%[2]s";
};
nickserv {
	nick = "NickServ";
	user = "NickServ";
	host = "services.local";
	real = "Nickname Services";
	maxnicks = 5;
};
saslserv {
	nick = "SaslServ";
	user = "SaslServ";
	host = "services.local";
	real = "SASL Authentication Agent";
};
general {
	uflags = { hidemail; };
	cflags = { verbose; guard; };
	flood_msgs = 0;
	flood_time = 10;
	vhost_change = 30;
	kline_time = 7;
	commit_interval = 5;
	default_clone_allowed = 1000;
	default_clone_warn = 1000;
	uplink_sendq_limit = 4194304;
	language = "en";
};
`, n.linkPort, n.linkPass)
}

func (n *IRC) writeConfigs() error {
	if err := n.writeCert(); err != nil {
		return err
	}
	files := map[string]string{
		"inspircd.conf": n.inspircdConf(),
		"atheme.conf":   n.athemeConf(),
		"motd.txt":      "Switchboard test network (testenv)\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(n.dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}
