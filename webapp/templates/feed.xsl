<?xml version="1.0" encoding="utf-8"?>
<!-- How a browser shows an Atom feed of Pressroom: what it is, its address, how to follow it,
     and its latest entries. Feed readers ignore it. Rendered per interface language. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
<xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
<xsl:template match="/atom:feed">
<html lang="{{ ui|e }}" dir="{{ 'rtl' if rtl else 'ltr' }}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="atom:title"/></title>
<link rel="stylesheet" href="{{ url_for('static', filename='style.css')|e }}"/>
</head>
<body>
<main id="main" class="feed-preview">
<h1><xsl:value-of select="atom:title"/></h1>
<p class="feed-about">{{ t('feed_preview')|e }}</p>
<p><label for="feed-address">{{ t('feed_how')|e }}</label><br/>
<input id="feed-address" readonly="readonly" size="60">
<xsl:attribute name="value"><xsl:value-of select="atom:link[@rel='self']/@href"/></xsl:attribute>
</input></p>
<p><a><xsl:attribute name="href"><xsl:value-of select="atom:link[@rel='alternate']/@href"/></xsl:attribute>{{ t('feed_search')|e }}</a></p>
<h2>{{ t('feed_latest')|e }}</h2>
<ol class="feed-entries">
<xsl:for-each select="atom:entry">
<li><xsl:attribute name="lang"><xsl:value-of select="@xml:lang"/></xsl:attribute>
<a dir="auto"><xsl:attribute name="href"><xsl:value-of select="atom:link[@rel='alternate']/@href"/></xsl:attribute><xsl:value-of select="atom:title"/></a>
<br/><span class="meta"><time><xsl:value-of select="substring(atom:updated, 1, 10)"/></time>
<xsl:if test="atom:author"> · <xsl:value-of select="atom:author/atom:name"/></xsl:if></span></li>
</xsl:for-each>
</ol>
</main>
</body>
</html>
</xsl:template>
</xsl:stylesheet>
